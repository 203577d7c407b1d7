# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the collection's HTML docs (tools/docs_site.sh, `make docs-site`).

The pages are the RST antsibull-docs writes for the modules, the inventory plugin, the filters and
the roles, rendered with the theme and extension docs.ansible.com uses. Warnings are errors
(sphinx-build -W), with one exception: the pages link to the Ansible docs and to other
collections' docs (common return values, kubernetes.core.k8s, ANSIBLE_CACHE_PLUGIN...), which
docs.ansible.com resolves through intersphinx inventories fetched from the network. This site is
built offline, so such a reference is shown as its text; a reference into this collection that
does not resolve stays a warning, hence an error."""

project = "homelab.harvester"
copyright = "2026, Homelab platform team"
title = "homelab.harvester"
html_short_title = "homelab.harvester"
html_title = "homelab.harvester"

extensions = ["sphinx_antsibull_ext"]
html_theme = "sphinx_ansible_theme"
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
default_role = "any"
nitpicky = True

html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
display_version = False

OWN_LABELS = "ansible_collections.homelab.harvester."


def outside_reference(app, env, node, contnode):
    """The text of a reference to documentation outside this site, instead of a warning."""
    target = node.get("reftarget", "")
    kind = node.get("reftype")
    if kind == "ref" and not target.startswith(OWN_LABELS):
        return contnode
    if kind == "envvar" and target.startswith("ANSIBLE_"):  # ansible-core's configuration
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", outside_reference)
