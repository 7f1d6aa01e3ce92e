"""Placeholder until the benchmark issue lands: says so and exits 0."""

print("make bench: no benchmark yet; the planner benchmark (plan vs orjson decode) comes with issue 4.")
