"""Do two trainings learn the same maps? Further trainings of the model with their own seeds,
and every conv layer's maps matched with the main model's by the correlation of their
activations over the test images (the target ``trainings``, not part of ``all``).

:mod:`~cnnlens.trainings.layout` names the runs' files (no TensorFlow: the rule files use
it); :mod:`~cnnlens.trainings.correlation` accumulates correlations batch by batch,
:mod:`~cnnlens.trainings.comparison` reads the runs' activations out, and
:mod:`~cnnlens.trainings.matching` assigns the maps one to one and summarises.
"""
