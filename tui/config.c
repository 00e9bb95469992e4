/* The settings file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xmalloc.h"

/* Defaults. */
void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->time_format = xstrdup("%H:%M");
	cfg->colours = true;
	cfg->roster = true;
}

/* Frees the strings. */
void
config_clear(struct config *cfg)
{
	free(cfg->server);
	free(cfg->user);
	free(cfg->time_format);
	free(cfg->ca);
	memset(cfg, 0, sizeof(*cfg));
}

/* Replaces a string setting. */
void
config_set(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* Strips leading and trailing blanks in place. */
static char *
config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	                 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "on"/"off" (also yes/no, true/false, 1/0); -1 if neither. */
static int
config_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
	    !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") ||
	         !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* One setting; -1 if the key or value is bad. */
static int
config_apply(struct config *cfg, const char *key, const char *val)
{
	if (*val == '\0')
		return -1;
	if (strcmp(key, "server") == 0)
		config_set(&cfg->server, val);
	else if (strcmp(key, "user") == 0)
		config_set(&cfg->user, val);
	else if (strcmp(key, "time_format") == 0)
		config_set(&cfg->time_format, val);
	else if (strcmp(key, "colours") == 0 || strcmp(key, "colors") == 0)
		return config_bool(val, &cfg->colours);
	else if (strcmp(key, "roster") == 0)
		return config_bool(val, &cfg->roster);
	else if (strcmp(key, "tls") == 0)
		return config_bool(val, &cfg->tls);
	else if (strcmp(key, "ca") == 0)
		config_set(&cfg->ca, val);
	else
		return -1;
	return 0;
}

/* Reads every line; a bad one is reported and skipped. */
int
config_read(const char *path, struct config *cfg, bool quiet_missing)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	int lineno = 0;

	if (f == NULL) {
		if (!(quiet_missing && errno == ENOENT))
			fprintf(stderr, "natter: %s: %s\n", path,
			        strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *key = config_trim(buf), *val;

		lineno++;
		if (*key == '\0' || *key == '#')
			continue;
		val = key + strcspn(key, " \t");
		if (*val != '\0')
			*val++ = '\0';
		val = config_trim(val);
		if (config_apply(cfg, key, val) < 0) {
			fprintf(stderr, "natter: %s:%d: bad setting %s\n", path,
			        lineno, key);
		}
	}
	fclose(f);
	return 0;
}

/* The XDG location. */
char *
config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/natter/config", x);
	if (home != NULL && *home != '\0')
		return xasprintf("%s/.config/natter/config", home);
	return NULL;
}
