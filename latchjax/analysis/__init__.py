"""What is read off runs and cells: per-model features and their AUCs (:mod:`.explain`), gradients and fixed
points (:mod:`.diagnostics`), loss surfaces (:mod:`.landscape`), paired comparisons (:mod:`.compare`) and the
checks against the real frameworks (:mod:`.fidelity`)."""
