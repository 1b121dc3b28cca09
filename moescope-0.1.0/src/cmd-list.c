/*
 * cmd-list.c - `moescope list [--json]`: the models in the local store
 * ($MOESCOPE_HOME/models, else ~/.local/share/moescope/models): name,
 * architecture, size on disk, experts, file type. A file that does not
 * parse is listed with its error, not skipped.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "formats/formats.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the *.gguf names in dir to names (prefixed "prefix/" if any). */
static void
collect(const char *dir, const char *prefix, char ***names, size_t *n,
    size_t *cap)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char *s;

		if (l < 6 || strcmp(de->d_name + l - 5, ".gguf") != 0)
			continue;
		if (*n == *cap) {
			char **nn;
			size_t c = *cap ? *cap * 2 : 16;

			if ((nn = realloc(*names, c * sizeof **names)) == NULL)
				break;
			*names = nn;
			*cap = c;
		}
		s = malloc(strlen(prefix) + l + 2);
		if (s == NULL)
			break;
		sprintf(s, "%s%s%s", prefix, prefix[0] ? "/" : "", de->d_name);
		(*names)[(*n)++] = s;
	}
	closedir(d);
}

int
cmd_list_main(int argc, char **argv)
{
	struct err e = { 0 };
	struct dirent *de;
	char *dir = NULL, **names = NULL, path[4096], size[32];
	size_t n = 0, cap = 0, i;
	int json = 0, a;
	DIR *d;

	if (cmd_wants_help(argc, argv)) {
		printf("usage: moescope list [--json]\n\n"
		    "Lists the GGUF models in the local store ($MOESCOPE_HOME/"
		    "models,\nelse ~/.local/share/moescope/models).\n");
		return 0;
	}
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--json") == 0)
			json = 1;
		else {
			fprintf(stderr, "moescope list: unexpected '%s'\n",
			    argv[a]);
			return 2;
		}
	}
	if (cmd_models_dir(&dir, &e) != 0)
		return cmd_fail(&e);
	collect(dir, "", &names, &n, &cap);
	/* pulled models: ORG/NAME.gguf, one level down */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct stat sb;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
				collect(path, de->d_name, &names, &n, &cap);
		}
		closedir(d);
	}
	qsort(names, n, sizeof *names, cmp_str);
	if (json)
		printf("{\"store\":\"%s\",\"models\":[", dir);
	else if (n == 0)
		printf("no models in %s\n(moescope pull ORG/NAME, or copy a "
		    ".gguf file there)\n", dir);
	else
		printf("%-32s %-10s %9s %8s  %s\n", "NAME", "ARCH", "SIZE",
		    "EXPERTS", "TYPE");
	for (i = 0; i < n; i++) {
		struct gguf *g = NULL;
		struct stat st;
		char *arch = NULL, key[96];
		uint32_t ne = 0, nu = 0, ft = 0;
		size_t l = strlen(names[i]);

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		names[i][l - 5] = '\0';
		if (stat(path, &st) != 0)
			st.st_size = 0;
		util_fmt_bytes((uint64_t)st.st_size, size, sizeof size);
		if (gguf_open(&g, path, &e) == 0) {
			gguf_get_strdup(g, "general.architecture", &arch, NULL);
			if (arch != NULL) {
				snprintf(key, sizeof key, "%s.expert_count",
				    arch);
				gguf_get_u32(g, key, &ne, NULL);
				snprintf(key, sizeof key, "%s.expert_used_count",
				    arch);
				gguf_get_u32(g, key, &nu, NULL);
			}
			gguf_get_u32(g, "general.file_type", &ft, NULL);
		}
		if (json)
			printf("%s{\"name\":\"%s\",\"path\":\"%s\",\"bytes\":"
			    "%lld,\"arch\":\"%s\",\"experts\":%u,"
			    "\"experts_used\":%u%s%s%s}", i ? "," : "",
			    names[i], path, (long long)st.st_size,
			    arch ? arch : "", ne, nu, g ? "" : ",\"error\":\"",
			    g ? "" : "unreadable", g ? "" : "\"");
		else if (g != NULL)
			printf("%-32s %-10s %9s %4u/%-3u  file type %u\n",
			    names[i], arch ? arch : "?", size, nu, ne, ft);
		else
			printf("%-32s %-10s %9s  (%s)\n", names[i], "?", size,
			    e.msg);
		free(arch);
		gguf_close(g);
		free(names[i]);
	}
	if (json)
		printf("]}\n");
	free(names);
	free(dir);
	return 0;
}
