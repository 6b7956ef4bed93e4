"""The pure core: the one time loop, cells, tasks, the model and its loss, optimizers, forward-mode gradients,
each epoch's shuffle, datasets and splits, statistics of success, and the vocabulary settings are declared in.
Nothing here writes a file or prints."""
