"""Every public name of release 0.1.0 still imports from the module that exported it (the
reorganisation into subpackages and the new vocabulary changed no documented import path)."""

from __future__ import annotations

import importlib

import pytest

#: ``__all__`` of every public module in release 0.1.0
PUBLIC_0_1 = {
    "convmat": (
        "ConvmatError", "arithmetic", "avg_pool_matrix", "conv_matrix", "conv_operator",
        "conv_output_shape", "conv_transpose_matrix", "conv_transpose_output_shape",
        "display", "explain_shape", "figures", "from_torch", "geometry", "kernel_matrix",
        "kong_lucey", "latex", "max_pool_matrix", "options", "padding_matrix", "polyphase",
        "pooling", "receptive", "receptive_field", "show", "singular_values",
        "spectral_norm", "strided_weight", "summary", "symbolic", "to_latex",
        "transpose_parameters", "transposed", "views",
    ),
    "convmat.arithmetic": (
        "RELATIONSHIPS", "explain_shape", "relationship", "relationship_for",
        "relationship_table", "transpose_parameters",
    ),
    "convmat.arrays": (
        "ConvArray", "with_geometry",
    ),
    "convmat.display": (
        "COLS", "ROWS", "Shown", "latex_repr", "pretty_repr", "show",
    ),
    "convmat.errors": (
        "ConvmatError",
    ),
    "convmat.figures": (
        "animate_convolution", "animate_matrix", "plot_connectivity", "plot_kong_lucey",
        "plot_matrix", "save", "sliding_windows",
    ),
    "convmat.geometry": (
        "ConvGeometry", "conv_geometry", "conv_output_shape", "conv_transpose_geometry",
        "conv_transpose_output_shape", "resolve_padding", "vector_shapes",
    ),
    "convmat.latex": (
        "beamer_document", "block_sizes", "document", "equations_to_latex", "to_latex",
    ),
    "convmat.networks": (
        "LAYER_GRAMMAR", "MODELS", "from_torch", "parse_layers", "summary",
    ),
    "convmat.operator": (
        "conv_operator",
    ),
    "convmat.options": (
        "get", "override", "set",
    ),
    "convmat.padding": (
        "padding_matrix",
    ),
    "convmat.pooling": (
        "avg_pool_matrix", "max_pool_matrix",
    ),
    "convmat.receptive": (
        "Layer", "receptive_field",
    ),
    "convmat.sparse": (
        "conv_matrix", "conv_transpose_matrix",
    ),
    "convmat.spectral": (
        "METHODS", "choose_method", "circulant_symbol", "singular_values", "spectral_norm",
    ),
    "convmat.striding": (
        "kong_lucey", "polyphase", "strided_weight",
    ),
    "convmat.symbolic": (
        "ConvMatrix", "MatrixProduct", "SymbolicKongLucey", "conv_matrix",
        "conv_transpose_matrix", "inputs", "kernel", "kong_lucey", "outputs", "product",
    ),
    "convmat.text": (
        "kong_lucey_text", "spy", "summary", "summary_latex", "summary_markdown",
        "summary_text", "to_text",
    ),
    "convmat.transposed": (
        "equivalent_convolution", "stretch_matrix",
    ),
    "convmat.views": (
        "kernel_matrix",
    ),
    "convmat.cli": (
        "main",
    ),
    "convmat.demo": (
        "tour",
    ),
}


@pytest.mark.parametrize("module", sorted(PUBLIC_0_1))
def test_every_public_name_of_0_1_still_imports(module):
    mod = importlib.import_module(module)
    missing = [name for name in PUBLIC_0_1[module] if not hasattr(mod, name)]
    assert missing == []


def test_the_new_packages_keep_the_old_import_paths():
    from convmat.cli import run
    from convmat.figures import animate_convolution, save
    from convmat.latex import to_latex
    from convmat.networks import from_torch, summary

    assert all(callable(f) for f in (run, animate_convolution, save, to_latex, from_torch,
                                     summary))
