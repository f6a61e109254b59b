"""Workflows at the edge of the library: run folders (train, evaluate), the quickstart,
model comparisons, experiments and figures. They use everything below them (operators,
solvers, data sets, the Trainer), take no argparse namespace and write lines only through
a ``log`` callable they are given; the ``sciml`` command (:mod:`sciml.commands`), the
tutorials and the benchmarks call them (never the other way round).

* :mod:`~sciml.workflows.runs` -- ``train_run`` / ``eval_run``: run folders;
* :mod:`~sciml.workflows.run_models` -- which model and task a run trains, from its data;
* :mod:`~sciml.workflows.compare` -- train-and-test comparisons, parameter counts, timings;
* :mod:`~sciml.workflows.tables` -- Markdown tables;
* :mod:`~sciml.workflows.quickstart` -- what ``sciml quickstart`` runs;
* :mod:`~sciml.workflows.nde_experiment`, :mod:`~sciml.workflows.traversal_experiments` --
  the NDE and traversal experiments;
* :mod:`~sciml.workflows.linear_solvers` -- method objects by name, convergence plots;
* :mod:`~sciml.workflows.nde_sweep` -- validation-chosen penalty weights, Pareto figures;
* :mod:`~sciml.workflows.traversal_media` -- strips and GIFs of a traversal run;
* :mod:`~sciml.workflows.data_figures`, :mod:`~sciml.workflows.gp_figures` -- figures.
"""
