"""Root test configuration: shared fixtures live in the modules listed in `pytest_plugins`."""

pytest_plugins: list[str] = [
    "fixtures.meltano",
    "fixtures.storage_services",
    "fixtures.simulator",
    "target.target_runs",
]
