"""The customer's language: gettext catalogues, the safe translation function, language choice.

``text`` (the Translator, ``N_``, isolates for right-to-left), ``language`` (which languages,
chosen how), ``ends`` (end reasons and errors as the customer reads them) and ``playbooks``
(a sample playbook in the customer's language) are pure; ``catalogues`` loads the compiled
catalogues shipped in ``cobrowse/locale``. docs/i18n.md: adding a language, updating catalogues.
"""
