"""Outgoing mail: one mailer, SMTP when configured, otherwise a development outbox folder."""
