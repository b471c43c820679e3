"""Shop staff: accounts with a role, their logins, and what they may read (see privacy.access)."""
