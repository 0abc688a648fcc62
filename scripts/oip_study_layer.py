"""Rule oip_study_layer: every variant of the OIP search on all maps of one conv layer; the
variants' scores and OIPs."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device, preprocessing, settings
    from cnnlens.files import load_array, save_arrays, write_csv
    from cnnlens.model import load_cnn
    from cnnlens.oip_study.experiment import run_variants
    from cnnlens.oip_study.records import variant_oips
    from cnnlens.oip_study.scores import SCORE_COLUMNS, score_row

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    layer = snakemake.wildcards.layer  # noqa: F821
    log.info("OIP study of %s: variants %s on %s", layer, ", ".join(params.searches), device_name)
    searches = {
        name: settings.build(settings.OipSearch, search) for name, search in params.searches.items()
    }
    runs = run_variants(
        load_cnn(inputs.model),
        layer,
        searches,
        params.seed,
        load_array(inputs.test_imgs),
        preprocessing.from_manifest(inputs.manifest),
    )
    rows = [score_row(layer, run.name, run.result, run.zero_starts, run.seconds) for run in runs]
    write_csv(output.scores, rows, SCORE_COLUMNS)
    save_arrays(output.oips, variant_oips([run.name for run in runs], [run.result for run in runs]))
