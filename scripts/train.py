"""Rule train: fit the CNN on the training split and evaluate it on the test split."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    from cnnlens import training, training_records
    from cnnlens.files import load_array, write_csv, write_json, write_text
    from cnnlens.model import as_float32, build_cnn, summary_text

    runtime.make_deterministic(params.seed)
    device = runtime.describe_device()
    settings = training.TrainingSettings.from_config(params.training, params.seed)
    policy = training.dtype_policy(settings.mixed_precision, runtime.has_gpu())
    log.info("training on %s with dtype policy %s", device, policy)
    model = build_cnn(settings.l2, policy)
    history, seconds = training.fit(
        model, load_array(inputs.train_imgs), load_array(inputs.train_labels), settings
    )
    model = as_float32(model, settings.l2)
    evaluation = training.evaluate(
        model, load_array(inputs.test_imgs), load_array(inputs.test_labels)
    )
    log.info("test accuracy %.4f after %.0f s of training", evaluation.accuracy, seconds)
    training.save_model(model, outputs.model)
    write_text(outputs.summary, summary_text(model))
    write_csv(outputs.history, history)
    metrics = training_records.metrics_record(evaluation, history, device, seconds)
    write_json(outputs.metrics, metrics)
    write_csv(outputs.confusion, training_records.confusion_rows(evaluation.confusion))
