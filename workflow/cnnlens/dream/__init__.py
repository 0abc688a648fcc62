"""Dreams: a photograph altered by gradient ascent until a map or a layer sees its patterns in
it.

Three kinds of render, all on the ascent engine of :mod:`cnnlens.optvis`:

* single map, at the CNN's view (:mod:`cnnlens.dream.single_map`): the photo shrunk to the
  model's input size, climbed for each map, enlarged, the detail lost by shrinking put back,
  round after round;
* layer dream (:mod:`cnnlens.dream.octaves`, classic DeepDream): the mean activation of whole
  layers climbed octave by octave through the fully convolutional conv part;
* full size (:mod:`cnnlens.dream.full_size`): the whole photo climbed at once, with random
  rolls between steps, so that patterns at the scale of the CNN's view appear all over it.

Around them: :mod:`~cnnlens.dream.names` (render names and descriptions),
:mod:`~cnnlens.dream.oip_maps` (what the OIP stage tells the dreams),
:mod:`~cnnlens.dream.imaging` (resampling, lost detail), :mod:`~cnnlens.dream.display`
(value range and PNG of a result), :mod:`~cnnlens.dream.results` (what the renders return)
and :mod:`~cnnlens.dream.records` (the ``metrics.json`` records). Only the renders and
``imaging`` import TensorFlow; importing the package itself imports nothing.
"""
