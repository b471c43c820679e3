"""Worked examples of the plugin API and the shop configuration (docs/plugins.md); the tests import them."""
