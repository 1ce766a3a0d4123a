// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "opts.h"

int opts_copy(void *dst, size_t dst_size, const void *src)
{
	size_t src_sz = src ? *(const size_t *)src : 0;

	memset(dst, 0, dst_size);
	if (!src)
		return 0;
	if (src_sz < sizeof(size_t))
		return -EINVAL;
	/*
	 * An older caller's missing fields stay 0. A newer caller's fields
	 * this version does not know must be 0 too, as libbpf's OPTS_VALID
	 * asks: asked for and silently not done would be worse than refused.
	 */
	for (size_t i = dst_size; i < src_sz; i++)
		if (((const unsigned char *)src)[i])
			return -EINVAL;
	memcpy(dst, src, src_sz < dst_size ? src_sz : dst_size);
	return 0;
}
