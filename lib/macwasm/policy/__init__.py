"""The policy layer: fact tables, rules, the engine, the advisor, the log explainer."""
