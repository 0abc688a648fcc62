"""Rule oip_search: OIPs of one chunk of a layer's maps, with their test-set statistics."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device, preprocessing, settings
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn
    from cnnlens.oip.search import search_maps

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    layer, first, last = wildcards.layer, int(wildcards.first), int(wildcards.last)
    log.info("OIP search of %s maps %d..%d on %s", layer, first, last, device_name)
    search = settings.build(settings.OipSearch, params.search)
    maps = range(first, last + 1)
    test_images = load_array(inputs.test_imgs)
    preparation = preprocessing.from_manifest(inputs.manifest)
    log.info("inputs kept to the %s input range", preparation.kind)
    result = search_maps(
        load_cnn(inputs.model), layer, maps, search, params.seed, test_images, preparation
    )
    result.save(output.result)
