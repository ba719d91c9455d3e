"""Places offline: region names, a gazetteer of cities, time zones of coordinates, an optional online geocoder."""
