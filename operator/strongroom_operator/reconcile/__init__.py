"""Reconcile logic as plain functions over the storage port, so the same code runs under kopf
(operator issue) and in dev mode. Modules: ``outcomes`` (what a reconcile reports for status),
``context``, ``apps`` (App data keys), ``grants`` (sealed grant records), ``policies`` (compiled
policy per App), ``batch`` (a whole set of resources, as dev mode loads them)."""
