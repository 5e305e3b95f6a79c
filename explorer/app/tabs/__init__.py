"""The tabs under the maps, one module each; only the open tab runs."""
