<?xml version="1.0" encoding="UTF-8"?>
<!--
  oaiserver browser view: turns any OAI-PMH 2.0 response of this server into a readable page.

  Written for oaiserver (MIT). XSLT 1.0 without extensions, because browsers run only that.
  A Jinja template: oaiserver.web.stylesheet writes the registered metadata formats into it
  (`formats`: prefix, label, namespace each), so a new format gets its links without edits here.
  oai_dc, the format OAI-PMH requires of every repository, is the default where one is needed.
  Harvesters never see this: they ignore the xml-stylesheet processing instruction.
  Links are relative ("?verb=..."), so they stay on the host the browser talks to.
  Text from the records is only ever copied as text (no disable-output-escaping), and only
  http(s) values become links, so a record cannot inject markup or script into the page.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:oid="http://www.openarchives.org/OAI/2.0/oai-identifier"
    xmlns:j="https://jats.nlm.nih.gov/ns/publishing/1.3/"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:ali="http://www.niso.org/schemas/ali/1.0/"
    exclude-result-prefixes="oai oai_dc dc oid j xlink ali">

  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="request" select="/oai:OAI-PMH/oai:request"/>
  <xsl:variable name="verb" select="string($request/@verb)"/>
  <!-- The format of this page's records: from the request, else (a resumed list) from the records. -->
  <xsl:variable name="prefix">
    <xsl:choose>
      <xsl:when test="$request/@metadataPrefix"><xsl:value-of select="$request/@metadataPrefix"/></xsl:when>
      {% for f in formats %}
      <xsl:when test="//oai:metadata/*[namespace-uri() = '{{ f.namespace }}']">{{ f.prefix }}</xsl:when>
      {% endfor %}
      <xsl:otherwise>oai_dc</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <!-- ===================================================================== page frame -->

  <xsl:template match="/">
    <html lang="en" dir="ltr">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:call-template name="page-title"/></title>
        <style><xsl:call-template name="css"/></style>
      </head>
      <body>
        <nav class="top">
          <a href="?verb=Identify">About this repository</a>
          <a href="?verb=ListSets">Sets</a>
          <a href="?verb=ListMetadataFormats">Formats</a>
          {% for f in formats %}
          <a href="?verb=ListRecords&amp;metadataPrefix={{ f.prefix }}">Records ({{ f.label }})</a>
          {% endfor %}
          <a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc">Identifiers</a>
        </nav>
        <main>
          <h1 dir="auto"><xsl:call-template name="page-title"/></h1>
          <xsl:apply-templates select="oai:OAI-PMH/oai:request"/>
          <xsl:choose>
            <xsl:when test="oai:OAI-PMH/oai:error">
              <xsl:apply-templates select="oai:OAI-PMH/oai:error"/>
              <xsl:call-template name="verb-help"/>
            </xsl:when>
            <xsl:otherwise>
              <xsl:apply-templates select="oai:OAI-PMH/*[not(self::oai:request or self::oai:responseDate)]"/>
            </xsl:otherwise>
          </xsl:choose>
        </main>
        <footer>
          <p>
            This is an OAI-PMH 2.0 response, shown as a web page by your browser.
            Harvesters receive the same XML (use <em>View source</em> to see it).
            Response date: <xsl:value-of select="oai:OAI-PMH/oai:responseDate"/>.
          </p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="page-title">
    <xsl:choose>
      <xsl:when test="/oai:OAI-PMH/oai:error">OAI-PMH error</xsl:when>
      <xsl:when test="$verb = 'Identify'">
        <xsl:value-of select="/oai:OAI-PMH/oai:Identify/oai:repositoryName"/>
      </xsl:when>
      <xsl:when test="$verb = 'ListMetadataFormats'">Metadata formats</xsl:when>
      <xsl:when test="$verb = 'ListSets'">Sets</xsl:when>
      <xsl:when test="$verb = 'ListIdentifiers'">Identifiers</xsl:when>
      <xsl:when test="$verb = 'ListRecords'">Records</xsl:when>
      <xsl:when test="$verb = 'GetRecord'">Record</xsl:when>
      <xsl:otherwise>OAI-PMH response</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="oai:request">
    <p class="request">
      <span class="label">Request</span>
      <xsl:text> </xsl:text>
      <code><xsl:value-of select="."/></code>
      <xsl:for-each select="@*">
        <xsl:text> </xsl:text>
        <span class="arg"><xsl:value-of select="name()"/>=<xsl:value-of
            select="substring(., 1, 40)"/><xsl:if test="string-length(.) &gt; 40">…</xsl:if></span>
      </xsl:for-each>
    </p>
  </xsl:template>

  <!-- ===================================================================== errors -->

  <xsl:template match="oai:error">
    <section class="error">
      <h2><xsl:value-of select="@code"/></h2>
      <p class="explain"><xsl:call-template name="explain-error"/></p>
      <p class="detail">The server said: <q dir="auto"><xsl:value-of select="."/></q></p>
    </section>
  </xsl:template>

  <xsl:template name="explain-error">
    <xsl:choose>
      <xsl:when test="@code = 'badVerb'">
        The request does not name one of the six OAI-PMH verbs (Identify, ListMetadataFormats, ListSets,
        GetRecord, ListIdentifiers, ListRecords), names none, or names more than one.
      </xsl:when>
      <xsl:when test="@code = 'badArgument'">
        The request has an argument this verb does not accept, misses one it needs, repeats one, or
        gives one a value in the wrong form. Dates look like 2024-01-31 or 2024-01-31T12:00:00Z.
      </xsl:when>
      <xsl:when test="@code = 'badResumptionToken'">
        The resumption token (the bookmark for the next page of a list) is not valid here: it has
        expired, was altered or cut short, or was issued by another server. Start the list again from
        its first page.
      </xsl:when>
      <xsl:when test="@code = 'cannotDisseminateFormat'">
        This repository does not offer the requested metadata format, or not for this item. The
        "Formats" page lists the formats it offers.
      </xsl:when>
      <xsl:when test="@code = 'idDoesNotExist'">
        No item in this repository has that identifier. Check it for typing mistakes; identifiers look
        like the ones on the "Identifiers" page.
      </xsl:when>
      <xsl:when test="@code = 'noRecordsMatch'">
        Nothing matches the request: the set, the date range or the format selects no records.
      </xsl:when>
      <xsl:when test="@code = 'noMetadataFormats'">
        The item exists, but it is not available in any metadata format.
      </xsl:when>
      <xsl:when test="@code = 'noSetHierarchy'">
        This repository does not organise its items in sets.
      </xsl:when>
      <xsl:otherwise>The server reported a problem with this request.</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="verb-help">
    <section class="help">
      <h2>What you can ask for</h2>
      <ul>
        <li><a href="?verb=Identify">Identify</a>: a description of the repository.</li>
        <li><a href="?verb=ListMetadataFormats">ListMetadataFormats</a>: the formats records come in.</li>
        <li><a href="?verb=ListSets">ListSets</a>: the journals, issues, subjects and article types.</li>
        <li><a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc">ListIdentifiers</a>: record
          headers, page by page.</li>
        <li><a href="?verb=ListRecords&amp;metadataPrefix=oai_dc">ListRecords</a>: full records, page
          by page.</li>
        <li>GetRecord: one record, with <code>identifier</code> and <code>metadataPrefix</code>.</li>
      </ul>
    </section>
  </xsl:template>

  <!-- ===================================================================== Identify -->

  <xsl:template match="oai:Identify">
    <table class="facts">
      <tr><th>Repository name</th><td dir="auto"><xsl:value-of select="oai:repositoryName"/></td></tr>
      <tr><th>Base URL (for harvesters)</th>
        <td><xsl:call-template name="link"><xsl:with-param name="value" select="oai:baseURL"/></xsl:call-template></td></tr>
      <tr><th>Protocol version</th><td><xsl:value-of select="oai:protocolVersion"/></td></tr>
      <tr><th>Administrators</th>
        <td><xsl:for-each select="oai:adminEmail">
          <xsl:if test="position() &gt; 1">, </xsl:if>
          <a href="mailto:{.}"><xsl:value-of select="."/></a>
        </xsl:for-each></td></tr>
      <tr><th>Earliest datestamp</th><td><xsl:value-of select="oai:earliestDatestamp"/></td></tr>
      <tr><th>Deleted records</th>
        <td><xsl:value-of select="oai:deletedRecord"/>
          <xsl:if test="oai:deletedRecord = 'persistent'">: deleted records stay listed, marked as
            deleted, so harvesters learn about every removal.</xsl:if></td></tr>
      <tr><th>Datestamp granularity</th><td><xsl:value-of select="oai:granularity"/></td></tr>
      <xsl:if test="oai:compression">
        <tr><th>Compression</th>
          <td><xsl:for-each select="oai:compression">
            <xsl:if test="position() &gt; 1">, </xsl:if><xsl:value-of select="."/>
          </xsl:for-each></td></tr>
      </xsl:if>
      <xsl:for-each select="oai:description/oid:oai-identifier">
        <tr><th>Identifier scheme</th>
          <td><code>oai<xsl:value-of select="oid:delimiter"/><xsl:value-of
              select="oid:repositoryIdentifier"/><xsl:value-of select="oid:delimiter"/>…</code>
            (repository identifier <code><xsl:value-of select="oid:repositoryIdentifier"/></code>)</td></tr>
        <tr><th>Sample identifier</th>
          <td><a>
            <xsl:attribute name="href">
              <xsl:call-template name="record-href">
                <xsl:with-param name="identifier" select="oid:sampleIdentifier"/>
                <xsl:with-param name="format" select="'oai_dc'"/>
              </xsl:call-template>
            </xsl:attribute>
            <xsl:value-of select="oid:sampleIdentifier"/>
          </a></td></tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <!-- ===================================================================== ListMetadataFormats -->

  <xsl:template match="oai:ListMetadataFormats">
    <xsl:if test="$request/@identifier">
      <p>Formats of the item <code><xsl:value-of select="$request/@identifier"/></code>.</p>
    </xsl:if>
    <table class="list">
      <tr><th>Prefix</th><th>Format</th><th>Schema</th><th>Namespace</th><th></th></tr>
      <xsl:for-each select="oai:metadataFormat">
        <tr>
          <td><code><xsl:value-of select="oai:metadataPrefix"/></code></td>
          <td>
            <xsl:choose>
              {% for f in formats %}
              <xsl:when test="oai:metadataPrefix = '{{ f.prefix }}'">{{ f.label }}</xsl:when>
              {% endfor %}
            </xsl:choose>
          </td>
          <td><xsl:call-template name="link"><xsl:with-param name="value" select="oai:schema"/></xsl:call-template></td>
          <td><code><xsl:value-of select="oai:metadataNamespace"/></code></td>
          <td>
            <xsl:choose>
              <xsl:when test="$request/@identifier">
                <a>
                  <xsl:attribute name="href">
                    <xsl:call-template name="record-href">
                      <xsl:with-param name="identifier" select="$request/@identifier"/>
                      <xsl:with-param name="format" select="oai:metadataPrefix"/>
                    </xsl:call-template>
                  </xsl:attribute>
                  View the record
                </a>
              </xsl:when>
              <xsl:otherwise>
                <a href="?verb=ListRecords&amp;metadataPrefix={oai:metadataPrefix}">Records</a>
              </xsl:otherwise>
            </xsl:choose>
          </td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <!-- ===================================================================== ListSets -->

  <xsl:template match="oai:ListSets">
    <xsl:call-template name="page-summary"/>
    <table class="list sets">
      <tr><th>Set</th><th>Name</th><th>Harvest</th></tr>
      <xsl:for-each select="oai:set">
        <xsl:variable name="depth"
            select="string-length(oai:setSpec) - string-length(translate(oai:setSpec, ':', ''))"/>
        <tr>
          <td><code style="margin-inline-start: {$depth * 1.5}em"><xsl:value-of select="oai:setSpec"/></code></td>
          <td>
            <div dir="auto"><xsl:value-of select="oai:setName"/></div>
            <xsl:for-each select="oai:setDescription/oai_dc:dc/dc:title[not(. = current()/oai:setName)]">
              <div class="minor"><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></div>
            </xsl:for-each>
            <xsl:for-each select="oai:setDescription/oai_dc:dc/dc:identifier">
              <div class="minor"><xsl:call-template name="link"><xsl:with-param name="value" select="."/></xsl:call-template></div>
            </xsl:for-each>
          </td>
          <td class="actions">
            {% for f in formats %}
            <a href="?verb=ListRecords&amp;metadataPrefix={{ f.prefix }}&amp;set={oai:setSpec}">{{ f.label }}</a>
            <xsl:text> · </xsl:text>
            {% endfor %}
            <a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc&amp;set={oai:setSpec}">identifiers</a>
          </td>
        </tr>
      </xsl:for-each>
    </table>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <!-- ===================================================================== lists of records -->

  <xsl:template match="oai:ListIdentifiers">
    <xsl:call-template name="page-summary"/>
    <ol class="records" start="{number(concat('0', oai:resumptionToken/@cursor)) + 1}">
      <xsl:for-each select="oai:header">
        <li><xsl:apply-templates select="."/></li>
      </xsl:for-each>
    </ol>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:ListRecords">
    <xsl:call-template name="page-summary"/>
    <ol class="records" start="{number(concat('0', oai:resumptionToken/@cursor)) + 1}">
      <xsl:for-each select="oai:record">
        <li><xsl:apply-templates select="."/></li>
      </xsl:for-each>
    </ol>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:GetRecord">
    <xsl:apply-templates select="oai:record"/>
  </xsl:template>

  <xsl:template name="page-summary">
    <xsl:variable name="count" select="count(oai:header | oai:record | oai:set)"/>
    <xsl:variable name="token" select="oai:resumptionToken"/>
    <p class="summary">
      <xsl:choose>
        <xsl:when test="$token/@completeListSize">
          Items <xsl:value-of select="$token/@cursor + 1"/>–<xsl:value-of select="$token/@cursor + $count"/>
          of <xsl:value-of select="$token/@completeListSize"/>.
        </xsl:when>
        <xsl:otherwise>All <xsl:value-of select="$count"/> items are on this page.</xsl:otherwise>
      </xsl:choose>
      <xsl:if test="$request/@set"> Set <code><xsl:value-of select="$request/@set"/></code>.</xsl:if>
      <xsl:if test="$request/@from"> From <xsl:value-of select="$request/@from"/>.</xsl:if>
      <xsl:if test="$request/@until"> Until <xsl:value-of select="$request/@until"/>.</xsl:if>
    </p>
  </xsl:template>

  <xsl:template match="oai:resumptionToken">
    <nav class="pager">
      <xsl:choose>
        <xsl:when test="normalize-space(.) != ''">
          <a class="next" rel="next">
            <xsl:attribute name="href">
              <xsl:text>?verb=</xsl:text><xsl:value-of select="$verb"/>
              <xsl:text>&amp;resumptionToken=</xsl:text>
              <xsl:call-template name="encode"><xsl:with-param name="s" select="normalize-space(.)"/></xsl:call-template>
            </xsl:attribute>
            <xsl:text>Next page →</xsl:text>
          </a>
          <xsl:if test="@expirationDate">
            <span class="minor"> (this link works until <xsl:value-of select="@expirationDate"/>)</span>
          </xsl:if>
        </xsl:when>
        <xsl:otherwise><span class="minor">This is the last page.</span></xsl:otherwise>
      </xsl:choose>
    </nav>
  </xsl:template>

  <!-- ===================================================================== one record -->

  <xsl:template match="oai:record">
    <article>
      <xsl:attribute name="class">record<xsl:if test="oai:header/@status = 'deleted'"> deleted</xsl:if></xsl:attribute>
      <xsl:choose>
        <xsl:when test="oai:metadata">
          <xsl:apply-templates select="oai:metadata/*" mode="md"/>
        </xsl:when>
        <xsl:when test="oai:header/@status = 'deleted'">
          <p class="gone">This record has been deleted: it was withdrawn or removed from its issue.
            Only its header remains, so harvesters can remove their copy.</p>
        </xsl:when>
      </xsl:choose>
      <xsl:apply-templates select="oai:header"/>
    </article>
  </xsl:template>

  <xsl:template match="oai:header">
    <div class="header">
      <xsl:if test="@status = 'deleted' and not(parent::oai:record)">
        <span class="badge">deleted</span><xsl:text> </xsl:text>
      </xsl:if>
      <code class="identifier"><xsl:value-of select="oai:identifier"/></code>
      <span class="minor"> · changed <xsl:value-of select="oai:datestamp"/></span>
      <div class="formats">
        <xsl:text>View as </xsl:text>
        {% for f in formats %}
        <xsl:call-template name="record-link">
          <xsl:with-param name="format" select="'{{ f.prefix }}'"/><xsl:with-param name="label">{{ f.label }}</xsl:with-param>
        </xsl:call-template>
        <xsl:text> · </xsl:text>
        {% endfor %}
        <a>
          <xsl:attribute name="href">
            <xsl:text>?verb=ListMetadataFormats&amp;identifier=</xsl:text>
            <xsl:call-template name="encode"><xsl:with-param name="s" select="oai:identifier"/></xsl:call-template>
          </xsl:attribute>
          <xsl:text>formats</xsl:text>
        </a>
      </div>
      <xsl:if test="oai:setSpec">
        <div class="sets">
          <xsl:text>Sets: </xsl:text>
          <xsl:for-each select="oai:setSpec">
            <a class="set" href="?verb=ListRecords&amp;metadataPrefix={$prefix}&amp;set={.}"><xsl:value-of select="."/></a>
            <xsl:text> </xsl:text>
          </xsl:for-each>
        </div>
      </xsl:if>
    </div>
  </xsl:template>

  <xsl:template name="record-link">
    <xsl:param name="format"/>
    <xsl:param name="label"/>
    <a class="format">
      <xsl:attribute name="href">
        <xsl:call-template name="record-href">
          <xsl:with-param name="identifier" select="oai:identifier"/>
          <xsl:with-param name="format" select="$format"/>
        </xsl:call-template>
      </xsl:attribute>
      <xsl:value-of select="$label"/>
    </a>
  </xsl:template>

  <xsl:template name="record-href">
    <xsl:param name="identifier"/>
    <xsl:param name="format"/>
    <xsl:text>?verb=GetRecord&amp;metadataPrefix=</xsl:text>
    <xsl:value-of select="$format"/>
    <xsl:text>&amp;identifier=</xsl:text>
    <xsl:call-template name="encode"><xsl:with-param name="s" select="$identifier"/></xsl:call-template>
  </xsl:template>

  <!-- ===================================================================== oai_dc -->

  <xsl:template match="oai_dc:dc" mode="md">
    <xsl:for-each select="dc:title">
      <xsl:choose>
        <xsl:when test="position() = 1">
          <h2 class="title"><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></h2>
        </xsl:when>
        <xsl:otherwise>
          <p class="alt-title"><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></p>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
    <xsl:if test="dc:creator">
      <p class="authors">
        <xsl:for-each select="dc:creator">
          <xsl:if test="position() &gt; 1">; </xsl:if>
          <span class="author"><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></span>
        </xsl:for-each>
      </p>
    </xsl:if>
    <dl class="fields">
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Date'"/><xsl:with-param name="items" select="dc:date"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Identifiers'"/><xsl:with-param name="items" select="dc:identifier"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Source'"/><xsl:with-param name="items" select="dc:source"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Publisher'"/><xsl:with-param name="items" select="dc:publisher"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Contributors'"/><xsl:with-param name="items" select="dc:contributor"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Subjects'"/><xsl:with-param name="items" select="dc:subject"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Type'"/><xsl:with-param name="items" select="dc:type"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Language'"/><xsl:with-param name="items" select="dc:language"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Format'"/><xsl:with-param name="items" select="dc:format"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Coverage'"/><xsl:with-param name="items" select="dc:coverage"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Rights'"/><xsl:with-param name="items" select="dc:rights"/></xsl:call-template>
      <xsl:call-template name="dc-row"><xsl:with-param name="label" select="'Related'"/><xsl:with-param name="items" select="dc:relation"/></xsl:call-template>
    </dl>
    <xsl:for-each select="dc:description">
      <div class="abstract"><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></div>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="dc-row">
    <xsl:param name="label"/>
    <xsl:param name="items"/>
    <xsl:if test="$items">
      <dt><xsl:value-of select="$label"/></dt>
      <dd>
        <xsl:for-each select="$items">
          <div><xsl:call-template name="lang-attrs"/><xsl:call-template name="link"><xsl:with-param name="value" select="."/></xsl:call-template></div>
        </xsl:for-each>
      </dd>
    </xsl:if>
  </xsl:template>

  <!-- ===================================================================== JATS -->

  <xsl:template match="j:article" mode="md">
    <xsl:variable name="meta" select="j:front/j:article-meta"/>
    <xsl:variable name="journal" select="j:front/j:journal-meta"/>
    <xsl:for-each select="$meta/j:title-group/j:article-title">
      <h2 class="title"><xsl:call-template name="lang-attrs"/><xsl:apply-templates mode="inline"/></h2>
    </xsl:for-each>
    <xsl:for-each select="$meta/j:title-group/j:trans-title-group/j:trans-title | $meta/j:title-group/j:subtitle">
      <p class="alt-title"><xsl:call-template name="lang-attrs"/><xsl:apply-templates mode="inline"/></p>
    </xsl:for-each>
    <xsl:if test="$meta/j:contrib-group/j:contrib">
      <p class="authors">
        <xsl:for-each select="$meta/j:contrib-group/j:contrib">
          <xsl:if test="position() &gt; 1">; </xsl:if>
          <xsl:apply-templates select="." mode="contrib"/>
        </xsl:for-each>
      </p>
    </xsl:if>
    <dl class="fields">
      <xsl:if test="$journal/j:journal-title-group">
        <dt>Journal</dt>
        <dd>
          <xsl:for-each select="$journal/j:journal-title-group/j:journal-title | $journal/j:journal-title-group/j:trans-title-group/j:trans-title">
            <div><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></div>
          </xsl:for-each>
          <div>
            <xsl:if test="$meta/j:volume">Vol. <xsl:value-of select="$meta/j:volume"/></xsl:if>
            <xsl:if test="$meta/j:issue">, No. <xsl:value-of select="$meta/j:issue"/></xsl:if>
            <xsl:if test="$meta/j:fpage">, pp. <xsl:value-of select="$meta/j:fpage"/><xsl:if
                test="$meta/j:lpage">–<xsl:value-of select="$meta/j:lpage"/></xsl:if></xsl:if>
            <xsl:if test="$meta/j:elocation-id">, <xsl:value-of select="$meta/j:elocation-id"/></xsl:if>
            <xsl:for-each select="$journal/j:issn">
              <xsl:text> · ISSN </xsl:text><xsl:value-of select="."/>
              <xsl:if test="@publication-format"> (<xsl:value-of select="@publication-format"/>)</xsl:if>
            </xsl:for-each>
          </div>
        </dd>
      </xsl:if>
      <xsl:if test="$meta/j:pub-date">
        <dt>Published</dt>
        <dd>
          <xsl:for-each select="$meta/j:pub-date">
            <div><xsl:call-template name="jats-date"/></div>
          </xsl:for-each>
        </dd>
      </xsl:if>
      <xsl:if test="$meta/j:article-id | $meta/j:self-uri">
        <dt>Identifiers</dt>
        <dd>
          <xsl:for-each select="$meta/j:article-id">
            <div>
              <xsl:choose>
                <xsl:when test="@pub-id-type = 'doi'">
                  <xsl:text>DOI </xsl:text>
                  <a href="https://doi.org/{.}"><xsl:value-of select="."/></a>
                </xsl:when>
                <xsl:otherwise>
                  <xsl:value-of select="@pub-id-type"/><xsl:text> </xsl:text><code><xsl:value-of select="."/></code>
                </xsl:otherwise>
              </xsl:choose>
            </div>
          </xsl:for-each>
          <xsl:for-each select="$meta/j:self-uri">
            <div><xsl:call-template name="link"><xsl:with-param name="value" select="@xlink:href"/></xsl:call-template></div>
          </xsl:for-each>
        </dd>
      </xsl:if>
      <xsl:if test="$meta/j:article-categories//j:subject">
        <dt>Categories</dt>
        <dd>
          <xsl:for-each select="$meta/j:article-categories//j:subject">
            <div><xsl:call-template name="lang-attrs"/><xsl:value-of select="."/></div>
          </xsl:for-each>
        </dd>
      </xsl:if>
      <xsl:for-each select="$meta/j:kwd-group">
        <dt>Keywords</dt>
        <dd>
          <xsl:call-template name="lang-attrs"/>
          <!-- Persian lists take the Arabic comma. -->
          <xsl:variable name="comma">
            <xsl:choose>
              <xsl:when test="starts-with(ancestor-or-self::*[@xml:lang][1]/@xml:lang, 'fa')">، </xsl:when>
              <xsl:otherwise>, </xsl:otherwise>
            </xsl:choose>
          </xsl:variable>
          <xsl:for-each select="j:kwd">
            <xsl:if test="position() &gt; 1"><xsl:value-of select="$comma"/></xsl:if><xsl:value-of select="."/>
          </xsl:for-each>
        </dd>
      </xsl:for-each>
      <xsl:for-each select="$meta/j:permissions/j:license">
        <dt>Licence</dt>
        <dd>
          <xsl:call-template name="link">
            <xsl:with-param name="value" select="(ali:license_ref | @xlink:href)[1]"/>
          </xsl:call-template>
        </dd>
      </xsl:for-each>
    </dl>
    <xsl:for-each select="$meta/j:abstract | $meta/j:trans-abstract">
      <div class="abstract"><xsl:call-template name="lang-attrs"/><xsl:apply-templates mode="block"/></div>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="j:contrib" mode="contrib">
    <xsl:variable name="names" select="j:name | j:name-alternatives/j:name | j:string-name | j:name-alternatives/j:string-name"/>
    <span class="author">
      <xsl:choose>
        <xsl:when test="j:collab"><span dir="auto"><xsl:value-of select="j:collab"/></span></xsl:when>
        <xsl:otherwise>
          <xsl:for-each select="$names">
            <xsl:if test="position() = 2"> (</xsl:if>
            <xsl:if test="position() &gt; 2">, </xsl:if>
            <span><xsl:call-template name="lang-attrs"/><xsl:call-template name="person-name"/></span>
            <xsl:if test="position() = last() and position() &gt; 1">)</xsl:if>
          </xsl:for-each>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:for-each select="j:contrib-id[@contrib-id-type = 'orcid']">
        <xsl:text> </xsl:text>
        <a class="orcid" title="ORCID">
          <xsl:attribute name="href">
            <xsl:if test="not(starts-with(., 'http'))">https://orcid.org/</xsl:if><xsl:value-of select="."/>
          </xsl:attribute>
          <xsl:text>ORCID</xsl:text>
        </a>
      </xsl:for-each>
      <xsl:if test="@corresp = 'yes'"><sup title="corresponding author">*</sup></xsl:if>
    </span>
  </xsl:template>

  <xsl:template name="person-name">
    <xsl:choose>
      <xsl:when test="self::j:string-name"><xsl:value-of select="."/></xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="j:given-names"/>
        <xsl:if test="j:given-names and j:surname"><xsl:text> </xsl:text></xsl:if>
        <xsl:value-of select="j:surname"/>
        <xsl:if test="j:suffix"><xsl:text> </xsl:text><xsl:value-of select="j:suffix"/></xsl:if>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="jats-date">
    <xsl:choose>
      <xsl:when test="@iso-8601-date"><xsl:value-of select="@iso-8601-date"/></xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="j:year"/>
        <xsl:if test="j:month">-<xsl:value-of select="j:month"/></xsl:if>
        <xsl:if test="j:day">-<xsl:value-of select="j:day"/></xsl:if>
      </xsl:otherwise>
    </xsl:choose>
    <xsl:if test="@calendar and @calendar != 'gregorian'">
      <span class="minor"> (<xsl:value-of select="@calendar"/> calendar)</span>
    </xsl:if>
  </xsl:template>

  <!-- JATS abstracts: sections, paragraphs and inline styling, text only. -->
  <xsl:template match="j:title" mode="block"><h3><xsl:apply-templates mode="inline"/></h3></xsl:template>
  <xsl:template match="j:sec" mode="block"><section><xsl:apply-templates mode="block"/></section></xsl:template>
  <xsl:template match="j:p" mode="block"><p><xsl:apply-templates mode="inline"/></p></xsl:template>
  <xsl:template match="*" mode="block"><div><xsl:apply-templates mode="inline"/></div></xsl:template>
  <xsl:template match="text()[normalize-space(.) = '']" mode="block"/>

  <xsl:template match="j:italic" mode="inline"><i><xsl:apply-templates mode="inline"/></i></xsl:template>
  <xsl:template match="j:bold" mode="inline"><b><xsl:apply-templates mode="inline"/></b></xsl:template>
  <xsl:template match="j:sup" mode="inline"><sup><xsl:apply-templates mode="inline"/></sup></xsl:template>
  <xsl:template match="j:sub" mode="inline"><sub><xsl:apply-templates mode="inline"/></sub></xsl:template>
  <xsl:template match="*" mode="inline"><xsl:apply-templates mode="inline"/></xsl:template>

  <!-- Any other metadata format: element names and their text, nested. -->
  <xsl:template match="*" mode="md">
    <dl class="generic">
      <dt><xsl:value-of select="local-name()"/></dt>
      <dd>
        <xsl:choose>
          <xsl:when test="*"><xsl:apply-templates select="*" mode="md"/></xsl:when>
          <xsl:otherwise><span dir="auto"><xsl:value-of select="."/></span></xsl:otherwise>
        </xsl:choose>
      </dd>
    </dl>
  </xsl:template>

  <!-- ===================================================================== helpers -->

  <!-- lang and dir for text from a record: Persian (and the other right-to-left languages) right to
       left, anything else by its first strong letter. The nearest xml:lang is read by hand
       because lang() does not see it in Chromium's copy of the document. -->
  <xsl:template name="lang-attrs">
    <xsl:variable name="lang" select="ancestor-or-self::*[@xml:lang][1]/@xml:lang"/>
    <xsl:if test="$lang"><xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute></xsl:if>
    <xsl:attribute name="dir">
      <xsl:choose>
        <xsl:when test="contains(' fa ar ur ps ckb ', concat(' ', substring-before(concat(translate($lang, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_', 'abcdefghijklmnopqrstuvwxyz-'), '-'), '-'), ' '))
            and $lang != ''">rtl</xsl:when>
        <xsl:otherwise>auto</xsl:otherwise>
      </xsl:choose>
    </xsl:attribute>
  </xsl:template>

  <!-- A value as a link when it is a web address or a DOI; as text otherwise. -->
  <xsl:template name="link">
    <xsl:param name="value"/>
    <xsl:variable name="v" select="normalize-space($value)"/>
    <xsl:choose>
      <xsl:when test="starts-with($v, 'http://') or starts-with($v, 'https://')">
        <a href="{$v}" dir="ltr"><xsl:value-of select="$v"/></a>
      </xsl:when>
      <xsl:when test="starts-with($v, 'info:doi/')">
        <a href="https://doi.org/{substring-after($v, 'info:doi/')}" dir="ltr"><xsl:value-of select="$v"/></a>
      </xsl:when>
      <xsl:when test="starts-with($v, 'doi:')">
        <a href="https://doi.org/{substring-after($v, 'doi:')}" dir="ltr"><xsl:value-of select="$v"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Percent-encode the characters that would break a query-string value. Identifiers and tokens
       of this server rarely hold any, so the common case returns at once. -->
  <xsl:template name="encode">
    <xsl:param name="s"/>
    <xsl:variable name="unsafe">%&amp;+# =?;"&lt;&gt;</xsl:variable>
    <xsl:choose>
      <xsl:when test="translate($s, $unsafe, '') = $s"><xsl:value-of select="$s"/></xsl:when>
      <xsl:otherwise>
        <xsl:variable name="c" select="substring($s, 1, 1)"/>
        <xsl:choose>
          <xsl:when test="$c = '%'">%25</xsl:when>
          <xsl:when test="$c = '&amp;'">%26</xsl:when>
          <xsl:when test="$c = '+'">%2B</xsl:when>
          <xsl:when test="$c = '#'">%23</xsl:when>
          <xsl:when test="$c = ' '">%20</xsl:when>
          <xsl:when test="$c = '='">%3D</xsl:when>
          <xsl:when test="$c = '?'">%3F</xsl:when>
          <xsl:when test="$c = ';'">%3B</xsl:when>
          <xsl:when test="$c = '&quot;'">%22</xsl:when>
          <xsl:when test="$c = '&lt;'">%3C</xsl:when>
          <xsl:when test="$c = '&gt;'">%3E</xsl:when>
          <xsl:otherwise><xsl:value-of select="$c"/></xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="encode"><xsl:with-param name="s" select="substring($s, 2)"/></xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="css">
    :root { color-scheme: light; --ink: #1d2733; --muted: #5b6775; --line: #d6dde5; --accent: #0b5cad; }
    body { margin: 0; font: 16px/1.5 system-ui, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink);
           background: #f6f8fa; }
    :lang(fa) { font-family: Vazirmatn, Tahoma, "DejaVu Sans", sans-serif; }
    nav.top { background: #1d2733; padding: .6rem 1rem; }
    nav.top a { color: #fff; margin-inline-end: 1.2rem; text-decoration: none; white-space: nowrap; }
    nav.top a:hover { text-decoration: underline; }
    main { max-width: 62rem; margin: 0 auto; padding: 1rem 1.2rem 2rem; }
    h1 { font-size: 1.6rem; margin: .6rem 0; }
    a { color: var(--accent); overflow-wrap: anywhere; }
    code { font-family: "DejaVu Sans Mono", monospace; font-size: .88em; overflow-wrap: anywhere; }
    .request { color: var(--muted); font-size: .9rem; }
    .request .label { font-weight: 600; }
    .arg { background: #e8edf2; border-radius: 3px; padding: 0 .3em; }
    .minor { color: var(--muted); font-size: .9em; }
    table { border-collapse: collapse; width: 100%; background: #fff; }
    th, td { text-align: start; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
    table.facts th { width: 14rem; color: var(--muted); font-weight: 600; }
    table.list th { background: #eef2f6; }
    td.actions { white-space: nowrap; width: 1%; }
    ol.records { padding-inline-start: 2.2rem; }
    ol.records > li { margin-bottom: .9rem; }
    .record, ol.records > li > .header { background: #fff; border: 1px solid var(--line); border-radius: 6px;
           padding: .8rem 1rem; }
    .record.deleted { background: #f1f1f1; color: var(--muted); }
    .record .header { border-top: 1px dashed var(--line); margin-top: .6rem; padding-top: .5rem; font-size: .9rem; }
    h2.title { font-size: 1.2rem; margin: 0 0 .2rem; }
    .alt-title { margin: 0 0 .3rem; font-size: 1.05rem; color: #33414f; }
    .authors { margin: .3rem 0; }
    .orcid { font-size: .75em; border: 1px solid #a6ce39; border-radius: 3px; padding: 0 .25em;
             color: #4a7a00; text-decoration: none; }
    dl.fields { display: grid; grid-template-columns: 9rem 1fr; gap: .2rem .8rem; margin: .5rem 0; }
    dl.fields dt { color: var(--muted); font-weight: 600; }
    dl.fields dd { margin: 0; }
    .abstract { border-inline-start: 3px solid var(--line); padding-inline-start: .8rem; margin: .5rem 0; }
    .abstract h3 { font-size: 1rem; margin: .4rem 0 0; }
    .abstract p { margin: .2rem 0 .5rem; }
    a.set { font-size: .85em; background: #eef2f6; border-radius: 3px; padding: 0 .3em; text-decoration: none;
            white-space: nowrap; }
    .badge { background: #8a3b12; color: #fff; border-radius: 3px; padding: 0 .4em; font-size: .8em; }
    .gone { font-style: italic; }
    .pager { margin: 1.2rem 0; font-size: 1.05rem; }
    a.next { font-weight: 600; }
    .error { background: #fff4f2; border: 1px solid #e0b4aa; border-inline-start: 5px solid #b3261e;
             border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; }
    .error h2 { margin: 0; color: #b3261e; font-size: 1.2rem; }
    .summary { color: var(--muted); }
    .generic { margin: 0 0 0 1rem; }
    .generic dt { font-weight: 600; }
    footer { max-width: 62rem; margin: 0 auto; padding: 0 1.2rem 2rem; color: var(--muted); font-size: .85rem; }
  </xsl:template>
</xsl:stylesheet>
