"""The delivery adapter: Apprise targets (:mod:`.targets`), sending (:mod:`.send`), the local
Maildir (:mod:`.maildir`), one attempt at one digest (:mod:`.dispatch`), and keeping secrets out of
logs (:mod:`.redaction`). No database and no Prefect here; the service drives it."""
