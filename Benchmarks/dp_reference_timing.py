#!/usr/bin/env python3
"""Times Google's dp_accounting on the setting of `verisplit bench dp-accountant`.
Usage: ~/.venv-bench/bin/python Benchmarks/dp_reference_timing.py [q sigma steps delta]
Prints one JSON line: median wall time (ms) of one RDP and one PLD accountant call, and the epsilons.
"""
import json, statistics, sys, time
import dp_accounting
from dp_accounting import pld, rdp


def median_ms(fn, runs):
    times, value = [], None
    for _ in range(runs):
        t = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), value


def main():
    q, sigma, steps, delta = 256 / 60000, 1.1, 14062, 1e-5
    if len(sys.argv) == 5:
        q, sigma, steps, delta = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps)
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))

    def rdp_call():
        a = rdp.RdpAccountant(orders)
        a.compose(event)
        return a.get_epsilon(delta)

    def pld_call():
        a = pld.PLDAccountant(value_discretization_interval=1e-4)
        a.compose(event)
        return a.get_epsilon(delta)

    rdp_ms, rdp_eps = median_ms(rdp_call, 20)
    pld_ms, pld_eps = median_ms(pld_call, 3)
    print(json.dumps({"q": q, "sigma": sigma, "steps": steps, "delta": delta, "rdp_ms": rdp_ms,
                      "rdp_epsilon": rdp_eps, "pld_ms": pld_ms, "pld_epsilon": pld_eps}))


if __name__ == "__main__":
    main()
