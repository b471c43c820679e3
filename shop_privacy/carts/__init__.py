"""Cart persistence (P15): anonymous carts behind a signed cookie token, merged into the account at login."""
