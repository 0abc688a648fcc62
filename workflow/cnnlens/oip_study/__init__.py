"""The study's questions as a stage of their own: variants of the OIP search compared on the
trained model, and the "Hand of MNIST" series.

* :mod:`.variants`: a variant is a named override of the ``oip`` section; merged over it,
  checked against the schema and built as the search's settings (no TensorFlow: the workflow
  checks the config with it);
* :mod:`.scores`: what a variant scores on a layer, the stage's summary and its Markdown table
  (no TensorFlow);
* :mod:`.records`: what the searches found as plain arrays (the variants' OIPs, the hand
  series), for the figure job (no TensorFlow);
* :mod:`.experiment`: the searches themselves: every variant on one layer, and the hand
  series of one map.

Only :mod:`.experiment` imports TensorFlow.
"""
