/* igd_soap.h - SOAP 1.1 requests and responses for UPnP control, parsed with libxml2. */
#ifndef PG_IGD_SOAP_H
#define PG_IGD_SOAP_H

#include <stddef.h>

struct evbuffer;

#define IGD_SOAP_MAX_ARGS	16
#define IGD_SOAP_NAME_MAX	64
#define IGD_SOAP_VALUE_MAX	1024	/* bytes of one argument */
#define IGD_SOAP_DEPTH_MAX	8	/* Envelope/Body/Action/Arg and a little slack */
#define IGD_SOAP_TYPE_MAX	128

enum igd_soap_perr {
	IGD_SOAP_OK,
	IGD_SOAP_ERR_XML,	/* not well-formed, a DOCTYPE/entity, too deep or too big */
	IGD_SOAP_ERR_ENVELOPE,	/* no SOAP Envelope/Body, or a wrong namespace */
	IGD_SOAP_ERR_ACTION,	/* no action element, or it disagrees with SOAPAction */
	IGD_SOAP_ERR_ARGS,	/* duplicate, nested, over-long or too many arguments */
};

struct igd_soap_arg {
	char		 name[IGD_SOAP_NAME_MAX];
	char		*value;		/* UTF-8, NUL-terminated (owned) */
};

struct igd_soap_req {
	char		 service_type[IGD_SOAP_TYPE_MAX];	/* namespace of the action */
	char		 action[IGD_SOAP_NAME_MAX];
	struct igd_soap_arg args[IGD_SOAP_MAX_ARGS];
	size_t		 nargs;
};

/*
 * Parse a control request body and its SOAPAction header
 * ("urn:...:service:WANIPConnection:1#AddPortMapping", quotes optional;
 * NULL if absent). No network, no entities, no DTD: a document with a
 * DOCTYPE is refused. Pure apart from libxml2 (fuzzed).
 */
enum igd_soap_perr igd_soap_parse(const char *body, size_t len, const char *soapaction,
    struct igd_soap_req *);
/* Free what igd_soap_parse allocated (safe on a zeroed or failed request). */
void igd_soap_req_free(struct igd_soap_req *);
/* The value of argument name, or NULL if the request lacks it. */
const char *igd_soap_arg(const struct igd_soap_req *, const char *name);
/* A short reason for a parse error (logs). */
const char *igd_soap_strerror(enum igd_soap_perr);

/* Append a response envelope: <u:ACTIONResponse xmlns:u="TYPE">ARGS</...>. */
void igd_soap_response(struct evbuffer *out, const char *service_type, const char *action,
    struct evbuffer *args);
/* Append an output argument, its value XML-escaped. */
void igd_soap_out(struct evbuffer *args, const char *name, const char *value);
/* Append a fault envelope carrying a UPnPError code and description. */
void igd_soap_fault(struct evbuffer *out, int code, const char *desc);

#endif
