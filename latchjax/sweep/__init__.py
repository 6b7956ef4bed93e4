"""A sweep: its configuration (:mod:`.config`, read from presets and flags by :mod:`.settings`), the pure trainer
(:mod:`.trainer`), the plan of chunks (:mod:`.plan`), how programs compile (:mod:`.compiler`), the runner that
trains a plan (:mod:`.runner`) and the named-axis results (:mod:`.results`)."""
