"""The gettext catalogues: ``LANG/LC_MESSAGES/cobrowse.po`` (sources) and ``.mo`` (compiled,
shipped). Package data only; see docs/i18n.md."""
