"""Help-desk integration, pure: the session summary a webhook posts, its signature, the
ticket a session is linked to, and when to try a delivery again (docs/helpdesk.md).
The delivery itself (HTTP, the spool on disk, timers) is ``cobrowse.io.webhook``."""
