"""Marketing under consent (P03, P19): mails with one-click unsubscribe, abandoned-cart reminders."""
