"""Drift reports: which nodes lack which committed images, since when, why, and the trend.

`report` holds the model and the pure aggregation, `reasons` the one reason vocabulary,
`history` the SQLite trend store, `render_*` the formats and `delivery` the report directory
and webhooks. The pure drift facts (a reason per (node, image) pair) come from the planner.
"""
