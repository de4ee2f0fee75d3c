"""Reports to authorities and accountability: NCMEC, evidence packages, DSA, retention, audit."""
