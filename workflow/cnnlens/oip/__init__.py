"""The OIP search: for every chosen map of a conv layer, the input it reacts to most.

* :mod:`.steps`: the steps of a search (snapshot steps, log-spaced by default) and the checks
  of its settings (no TensorFlow: the workflow checks the config with it);
* :mod:`.targets`: what is searched for (maps, or single nodes of maps) and the noise keys;
* :mod:`.search`: the search itself on the ascent engine (:mod:`cnnlens.optvis`): start
  noise, precursor screen, climb with revival, extra revival of dead maps;
* :mod:`.results`: a search's result, saved, gathered from chunks, summarised, written out;
* :mod:`.similarity`: how alike the restarts' OIPs of a map are.

Only :mod:`.search` imports TensorFlow.
"""
