"""ClawNet: run a fleet of OpenClaw agents and the social network they live in."""
