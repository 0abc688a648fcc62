"""Rule dream_photo: read one photo (grey or colour, as the model takes), cap its size and put
it into the model's input range."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

# No thread limit: that would import TensorFlow, which this job does not need.
with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens.dream.display import adjust_range, save_png
    from cnnlens.files import save_array
    from cnnlens.photos import load_photo
    from cnnlens.preprocessing import from_manifest
    from cnnlens.sample_photo import photo_file

    preparation = from_manifest(inputs.manifest)
    source = inputs.photo or photo_file()  # no input: matplotlib's sample photo
    photo = load_photo(source, params.max_side, params.min_side, params.channels, preparation)
    log.info("photo %s: %d x %d pixels (width x height) after capping, %d channel(s), %s",
             source, photo.shape[1], photo.shape[0], params.channels, preparation.kind)
    save_array(outputs.array, photo)
    save_png(adjust_range(photo, colour=photo.ndim == 3), outputs.image)
