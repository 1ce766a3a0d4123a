/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The shim's probe sites, and keeping them safe in forked children (see probe_sites.c). */
#ifndef MEMTRACK_SHIM_PROBE_SITES_H
#define MEMTRACK_SHIM_PROBE_SITES_H

/* Find this library's memtrack probe sites and register the fork handler. Allocates nothing. */
void probe_sites_init(void);

#endif /* MEMTRACK_SHIM_PROBE_SITES_H */
