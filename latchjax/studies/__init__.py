"""The literature's own experiments: Bengio, Simard & Frasconi 1994's minimal latch (:mod:`.bengio`) and
Hochreiter & Schmidhuber's random weight guessing (:mod:`.guessing`, its nets in :mod:`.guess_nets`, its tasks
in :mod:`.guess_tasks`)."""
