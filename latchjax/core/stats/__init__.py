"""Statistics of success, one module per question: how often (:mod:`.frequency`: Wilson's and Clopper–Pearson's
intervals), which of two settings on the same seeds (:mod:`.paired`: McNemar's exact test, Newcombe's interval,
Holm's correction), how long until success (:mod:`.survival`: Kaplan–Meier), up to which length (:mod:`.horizon`:
memory horizons T50/T90) and how many seeds to run (:mod:`.power`). Pure NumPy.
"""

from latchjax.core.stats.frequency import clopper_pearson, wilson_interval
from latchjax.core.stats.horizon import Horizon, memory_horizon
from latchjax.core.stats.paired import PAIRED_COLUMNS, holm, mcnemar_exact, newcombe_paired_interval, paired_comparison
from latchjax.core.stats.power import mcnemar_exact_power, seeds_paired, seeds_paired_exact, seeds_unpaired
from latchjax.core.stats.survival import kaplan_meier, km_median, km_medians

__all__ = ["wilson_interval", "clopper_pearson", "holm", "mcnemar_exact", "newcombe_paired_interval",
           "PAIRED_COLUMNS", "paired_comparison", "kaplan_meier", "km_median", "km_medians", "Horizon",
           "memory_horizon", "seeds_unpaired", "seeds_paired", "seeds_paired_exact", "mcnemar_exact_power"]
