"""The atlas: a static site with a page for every unit (conv map or dense node) and for every
selected test image, tying each unit's OIP to the real test images that drive it.

* :mod:`.ranking`: top-k test images per unit and class profiles (NumPy);
* :mod:`.readout`: every test image through the model, reduced per unit (TensorFlow);
* :mod:`.records`: the per-layer unit tables saved and loaded, and ``top_images.csv``;
* :mod:`.imaging`: thumbnails, strips and GIFs (Pillow);
* :mod:`.pages`: what each page shows, as plain data for the templates;
* :mod:`.site`: the pages rendered from the Jinja2 templates in ``workflow/templates/atlas``
  and written with their images.

Only :mod:`.readout` imports TensorFlow; the site job needs NumPy, Pillow and Jinja2.
"""
