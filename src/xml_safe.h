/*
 * xml_safe: libxml2 set up so that no document reaches outside itself. Pure
 * (libxml2 only). Every XML parser of the project (feeds, CAP alerts) goes
 * through it, so the rules are written once:
 *
 *  - the process-wide external entity loader refuses every request (no
 *    file, no network, whatever a document or a libxml2 default asks);
 *  - SAX guards: no internal or external subset is processed, no entity is
 *    declared, looked up or resolved (billion laughs, quadratic blow-up and
 *    XXE have nothing to expand);
 *  - parser options: no network, no warnings or errors printed.
 *
 * Callers must also pass user data other than the parser context to
 * xmlCreatePushParserCtxt: libxml2 2.9 keeps entity declarations in a
 * hidden "SAX compatibility" document and consults it whenever
 * userData == ctxt; with their own user data only the guards are asked.
 */
#ifndef KT_XML_SAFE_H
#define KT_XML_SAFE_H

#include <libxml/parser.h>

/* Once per process, from any thread (pthread_once inside). */
void xml_safe_init(void);
/* Installs the guards into a SAX2 handler the caller filled. */
void xml_safe_sax_guards(xmlSAXHandler *sax);
/* Options for xmlCtxtUseOptions (callers add XML_PARSE_RECOVER if they
 * recover). */
int xml_safe_options(void);

#endif
