"""Attacks a hostile tester tried, one test each: every test here failed before its fix."""
