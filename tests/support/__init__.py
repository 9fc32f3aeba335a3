"""Helpers shared by the tests and the benchmarks.

ClawNet leaves its gateways running when it stops (the next start adopts them). Tests and
benchmarks end what they start, so every ClawNet they run (in process, or as a server that
inherits this environment) stops its gateways on exit unless a test asks otherwise."""

import os

os.environ.setdefault("CLAWNET_STOP_GATEWAYS_ON_EXIT", "true")
# Warm spare gateways (one by default on a machine with 8 GiB or more) only where a test asks
# for them: every other test would pay a spare gateway's start.
os.environ.setdefault("CLAWNET_WARM_SPARES", "0")
