/*
 * xml_safe: see xml_safe.h.
 */
#include "xml_safe.h"

#include <pthread.h>

static pthread_once_t xml_safe_once = PTHREAD_ONCE_INIT;

static xmlParserInputPtr xml_safe_refuse_loader(const char *url, const char *id,
                                                xmlParserCtxtPtr ctxt)
{
    (void)url, (void)id, (void)ctxt;
    return NULL;
}

static void xml_safe_init_once(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(xml_safe_refuse_loader);
}

void xml_safe_init(void)
{
    pthread_once(&xml_safe_once, xml_safe_init_once);
}

static void xml_safe_no_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                               const xmlChar *sys_id)
{
    (void)ctx, (void)name, (void)ext_id, (void)sys_id;
}

static void xml_safe_no_entity_decl(void *ctx, const xmlChar *name, int type,
                                    const xmlChar *public_id, const xmlChar *system_id,
                                    xmlChar *content)
{
    (void)ctx, (void)name, (void)type, (void)public_id, (void)system_id, (void)content;
}

static xmlEntityPtr xml_safe_no_entity(void *ctx, const xmlChar *name)
{
    (void)ctx, (void)name;
    return NULL;
}

static xmlParserInputPtr xml_safe_no_resolve(void *ctx, const xmlChar *public_id,
                                             const xmlChar *system_id)
{
    (void)ctx, (void)public_id, (void)system_id;
    return NULL;
}

void xml_safe_sax_guards(xmlSAXHandler *sax)
{
    sax->internalSubset = xml_safe_no_subset;
    sax->externalSubset = xml_safe_no_subset;
    sax->entityDecl = xml_safe_no_entity_decl;
    sax->getEntity = xml_safe_no_entity;
    sax->getParameterEntity = xml_safe_no_entity;
    sax->resolveEntity = xml_safe_no_resolve;
}

int xml_safe_options(void)
{
    return XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_IGNORE_ENC;
}
