"""Thin routers: parse, call one service, shape the reply. No queries, no rules here."""
