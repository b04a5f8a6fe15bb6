/*
 * The erasure certificate schema, embedded because tsc does not copy .xsd files into dist.
 * packages/retention/schema/erasure-certificate.xsd is the same text for humans and
 * validators; a test keeps the two equal.
 */

/** Namespace of erasure certificates: a sibling of the archive's `urn:handover:archive:v1`. */
export const ERASURE_NAMESPACE = 'urn:handover:erasure:v1';

export const ERASURE_CERTIFICATE_XSD = `<?xml version="1.0" encoding="UTF-8"?>
<!--
  Handover erasure certificate, version 1.
  One certificate records what was destroyed (objects and/or a subject's key), under which
  retention rule and legal basis, when it became due, when and how it was destroyed, how
  its absence was checked afterwards, that no legal hold covered it, who did it, and the
  hash of the audit record that logged it.
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:e="urn:handover:erasure:v1"
           targetNamespace="urn:handover:erasure:v1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="erasureCertificate" type="e:ErasureCertificate"/>

  <xs:element name="erasureCertificates">
    <xs:annotation><xs:documentation>
      The certificates of one purge batch in one document: one erasureCertificate per data
      subject (or per object without a subject), each complete on its own and addressed by
      its id ("handover audit certificate ID" prints it as a standalone document). One
      write per batch instead of one per subject.
    </xs:documentation></xs:annotation>
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="e:erasureCertificate" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="schemaVersion" type="xs:positiveInteger" use="required" fixed="1"/>
      <xs:attribute name="id" type="e:Identifier" use="required"/>
      <xs:attribute name="issuedAt" type="e:UtcDateTime" use="required"/>
    </xs:complexType>
  </xs:element>

  <xs:complexType name="ErasureCertificate">
    <xs:sequence>
      <xs:element name="run" type="e:Run"/>
      <xs:element name="actor" type="e:NonEmptyString"/>
      <xs:element name="subject" type="e:Subject" minOccurs="0"/>
      <xs:element name="holdCheck" type="e:HoldCheck"/>
      <xs:element name="destroyed" type="e:Destroyed"/>
      <xs:element name="audit" type="e:AuditRef"/>
    </xs:sequence>
    <xs:attribute name="schemaVersion" type="xs:positiveInteger" use="required" fixed="1"/>
    <xs:attribute name="id" type="e:Identifier" use="required"/>
    <xs:attribute name="issuedAt" type="e:UtcDateTime" use="required"/>
  </xs:complexType>

  <xs:complexType name="Run">
    <xs:attribute name="id" type="e:Identifier" use="required"/>
    <xs:attribute name="batch" type="xs:nonNegativeInteger"/>
  </xs:complexType>

  <xs:complexType name="Subject">
    <xs:attribute name="ref" type="e:NonEmptyString" use="required"/>
  </xs:complexType>

  <xs:complexType name="HoldCheck">
    <xs:annotation><xs:documentation>
      The active holds were read at checkedAt, right before destruction; result "clear"
      means none of them covered anything this certificate lists.
    </xs:documentation></xs:annotation>
    <xs:attribute name="checkedAt" type="e:UtcDateTime" use="required"/>
    <xs:attribute name="activeHolds" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="result" use="required">
      <xs:simpleType>
        <xs:restriction base="xs:string"><xs:enumeration value="clear"/></xs:restriction>
      </xs:simpleType>
    </xs:attribute>
  </xs:complexType>

  <xs:complexType name="Destroyed">
    <xs:choice maxOccurs="unbounded">
      <xs:element name="object" type="e:DestroyedObject"/>
      <xs:element name="cryptoKey" type="e:DestroyedKey"/>
    </xs:choice>
  </xs:complexType>

  <xs:group name="Lifecycle">
    <xs:sequence>
      <xs:element name="rule" type="e:Rule"/>
      <xs:element name="dueSince" type="e:UtcDateTime"/>
      <xs:element name="erasure" type="e:Erasure"/>
      <xs:element name="postCheck" type="e:PostCheck"/>
    </xs:sequence>
  </xs:group>

  <xs:complexType name="DestroyedObject">
    <xs:group ref="e:Lifecycle"/>
    <xs:attribute name="key" type="e:NonEmptyString" use="required"/>
    <xs:attribute name="version" type="e:NonEmptyString"/>
    <xs:attribute name="bytes" type="xs:unsignedLong" use="required"/>
    <xs:attribute name="sha256" type="e:Sha256"/>
  </xs:complexType>

  <xs:complexType name="DestroyedKey">
    <xs:group ref="e:Lifecycle"/>
    <xs:attribute name="subjectRef" type="e:NonEmptyString" use="required"/>
    <xs:attribute name="keyId" type="e:NonEmptyString" use="required"/>
  </xs:complexType>

  <xs:complexType name="Rule">
    <xs:sequence>
      <xs:element name="legalBasis" type="e:NonEmptyString"/>
    </xs:sequence>
    <xs:attribute name="class" type="e:ClassName" use="required"/>
    <xs:attribute name="duration" type="e:IsoDuration" use="required"/>
    <xs:attribute name="action" use="required">
      <xs:simpleType>
        <xs:restriction base="xs:string">
          <xs:enumeration value="delete"/>
          <xs:enumeration value="crypto-shred"/>
        </xs:restriction>
      </xs:simpleType>
    </xs:attribute>
    <xs:attribute name="retainedUntil" type="e:UtcDateTime"/>
  </xs:complexType>

  <xs:complexType name="Erasure">
    <xs:attribute name="at" type="e:UtcDateTime" use="required"/>
    <xs:attribute name="method" use="required">
      <xs:simpleType>
        <xs:restriction base="xs:string">
          <xs:enumeration value="delete"/>
          <xs:enumeration value="crypto-shred"/>
        </xs:restriction>
      </xs:simpleType>
    </xs:attribute>
    <xs:attribute name="keyId" type="e:NonEmptyString"/>
  </xs:complexType>

  <xs:complexType name="PostCheck">
    <xs:attribute name="result" use="required">
      <xs:simpleType>
        <xs:restriction base="xs:string">
          <xs:enumeration value="absent"/>
          <xs:enumeration value="unverified"/>
        </xs:restriction>
      </xs:simpleType>
    </xs:attribute>
    <xs:attribute name="method" use="required">
      <xs:simpleType>
        <xs:restriction base="xs:string">
          <xs:enumeration value="list"/>
          <xs:enumeration value="head"/>
          <xs:enumeration value="key-ring"/>
          <xs:enumeration value="none"/>
        </xs:restriction>
      </xs:simpleType>
    </xs:attribute>
    <xs:attribute name="checkedAt" type="e:UtcDateTime" use="required"/>
  </xs:complexType>

  <xs:complexType name="AuditRef">
    <xs:attribute name="seq" type="xs:positiveInteger" use="required"/>
    <xs:attribute name="hash" type="e:Sha256" use="required"/>
  </xs:complexType>

  <xs:simpleType name="NonEmptyString">
    <xs:restriction base="xs:string"><xs:minLength value="1"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Identifier">
    <xs:restriction base="xs:string"><xs:pattern value="[A-Za-z0-9][A-Za-z0-9._-]*"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="ClassName">
    <xs:restriction base="xs:string"><xs:pattern value="[a-z][a-z0-9]*(-[a-z0-9]+)*"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Sha256">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9a-f]{64}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="UtcDateTime">
    <xs:restriction base="xs:dateTime"><xs:pattern value=".+Z"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="IsoDuration">
    <xs:annotation><xs:documentation>ISO-8601 duration: PnYnMnDTnHnMnS (each part optional) or PnW.</xs:documentation></xs:annotation>
    <xs:restriction base="xs:string">
      <xs:pattern value="P([0-9]+W|([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+([.,][0-9]+)?S)?)?)"/>
      <xs:minLength value="2"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>
`;
