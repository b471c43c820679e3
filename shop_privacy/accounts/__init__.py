"""Customer accounts: registration, login, sessions, passwords, profile."""
