"""Source-to-source modernization rewrites of one code block, each keyed by the rule it resolves.

Every module exposes ``rewrite(code, ctx) -> Rewrite``; a rewrite that cannot be done without
guessing what the code means is left out and explained in ``Rewrite.notes`` instead.
"""
