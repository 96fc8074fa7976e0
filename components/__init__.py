"""dynamotif components: the science, as pure functions. Never imports mlflow or prefect."""
