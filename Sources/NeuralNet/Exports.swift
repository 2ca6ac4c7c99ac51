/// NeuralNet re-exports the support module (`FixedPointError`, the parallel-for, `Statistics`,
/// JSON lines, SHA-256), so the modules built on it (DP, Attacks, Defenses, Audit, ZKML) share
/// one copy of each without a second import.
@_exported import Support
