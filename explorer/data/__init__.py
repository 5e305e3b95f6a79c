"""The data: datasets (built-in, folders), stores on disk, uploads, image files."""
