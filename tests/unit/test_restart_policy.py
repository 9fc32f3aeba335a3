"""The restart backoff and the crash-loop threshold."""

from clawnet.controlplane.health import RestartPolicy


def test_backoff_doubles_up_to_a_ceiling():
    policy = RestartPolicy(base_delay_s=1, max_delay_s=60)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_crash_loop_after_repeated_fast_failures():
    policy = RestartPolicy(crash_loop_after=5)
    assert not any(policy.is_crash_loop(n) for n in range(5))
    assert policy.is_crash_loop(5)
