"""The server-drawn map: boundary data decoded from TopoJSON, projected, clustered and written as SVG."""
