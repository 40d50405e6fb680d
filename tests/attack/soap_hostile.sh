#!/bin/bash
# soap_hostile.sh - hostile SOAP bodies from host A; prints the UPnP error code (or
# "Response") each one gets. Needs up.sh running.
here=$(cd "$(dirname "$0")" && pwd); . "$here/env.sh"
T=urn:schemas-upnp-org:service:WANIPConnection:2
E='xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
post() { # LABEL BODY [SOAPACTION]
	local r
	r=$(printf '%s' "$2" | timeout 5 ip netns exec $HA curl -s -m 3 -H 'Content-Type: text/xml' \
		-H "SOAPAction: ${3:-\"$T#GetExternalIPAddress\"}" --data-binary @- http://$GW_LAN_IP:5000/ctl/IPConn)
	printf '%-34s %s\n' "$1" "$(echo "$r" | grep -o '<errorCode>[0-9]*\|Response>\|<NewExternalIPAddress>[^<]*' | head -2 | tr '\n' ' ')"
}
A='<u:GetExternalIPAddress xmlns:u="'$T'"/>'
post plain "<s:Envelope $E><s:Body>$A</s:Body></s:Envelope>"
post "prefix-renamed env" "<x:Envelope xmlns:x=\"http://schemas.xmlsoap.org/soap/envelope/\"><x:Body>$A</x:Body></x:Envelope>"
post "wrong env ns" "<s:Envelope xmlns:s=\"urn:x\"><s:Body>$A</s:Body></s:Envelope>"
post "default ns env" "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\"><Body>$A</Body></Envelope>"
post "Header before Body" "<s:Envelope $E><s:Header><x/></s:Header><s:Body>$A</s:Body></s:Envelope>"
post "two Bodies" "<s:Envelope $E><s:Body>$A</s:Body><s:Body><u:ForceTermination xmlns:u=\"$T\"/></s:Body></s:Envelope>"
post "two actions" "<s:Envelope $E><s:Body>$A<u:ForceTermination xmlns:u=\"$T\"/></s:Body></s:Envelope>"
post "action ns redeclared" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\" xmlns:u=\"$T\"/></s:Body></s:Envelope>"
post "CDATA arg" "<s:Envelope $E><s:Body><u:GetSpecificPortMappingEntry xmlns:u=\"$T\"><NewRemoteHost><![CDATA[]]></NewRemoteHost><NewExternalPort><![CDATA[9]]>9</NewExternalPort><NewProtocol>TCP</NewProtocol></u:GetSpecificPortMappingEntry></s:Body></s:Envelope>" "\"$T#GetSpecificPortMappingEntry\""
post "comment+PI in action" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><!-- c --><?pi x?></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "char ref &#0;" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX>&#0;</NewX></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "predefined entity" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX>&amp;&lt;</NewX></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "undeclared entity" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX>&x;</NewX></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "non-UTF-8 bytes" "$(printf "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX>\xff\xfe</NewX></u:GetExternalIPAddress></s:Body></s:Envelope>")"
post "latin1 declared" "$(printf "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><s:Envelope $E><s:Body><u:AddPortMapping xmlns:u=\"$T\">$(add_args 9801 TCP 8801 $A_IP 60 | sed 's#<NewPortMappingDescription>t#<NewPortMappingDescription>caf\xe9#')</u:AddPortMapping></s:Body></s:Envelope>")" "\"$T#AddPortMapping\""
d=8; open=""; close=""; for i in $(seq 1 $((d-3))); do open="$open<a$i>"; close="</a$i>$close"; done
post "depth 8 (limit)" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX>$open</NewX>${close}</u:GetExternalIPAddress></s:Body></s:Envelope>"
open=""; close=""; for i in $(seq 1 300); do open="$open<a>"; close="</a>$close"; done
post "depth 303" "<s:Envelope $E><s:Body>$open$close$A</s:Body></s:Envelope>"
args=""; for i in $(seq 1 16); do args="$args<NewA$i>x</NewA$i>"; done
post "16 args" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\">$args</u:GetExternalIPAddress></s:Body></s:Envelope>"
post "17 args" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\">$args<NewB>x</NewB></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "dup arg" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewA>1</NewA><NewA>2</NewA></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "arg 63-char name" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><$(printf 'N%.0s' $(seq 63))>x</$(printf 'N%.0s' $(seq 63))></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "arg 1025 bytes" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewA>$(head -c 1025 /dev/zero | tr '\0' a)</NewA></u:GetExternalIPAddress></s:Body></s:Envelope>"
post "many attributes" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\" $(for i in $(seq 1 1500); do printf 'a%d="1" ' $i; done)/></s:Body></s:Envelope>"
post "many ns decls" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\" $(for i in $(seq 1 600); do printf 'xmlns:n%d="urn:%d" ' $i $i; done)/></s:Body></s:Envelope>"
post "huge type ns (200)" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"$(head -c 200 /dev/zero | tr '\0' a)\"/></s:Body></s:Envelope>"
post "SOAPAction unquoted" "<s:Envelope $E><s:Body>$A</s:Body></s:Envelope>" "$T#GetExternalIPAddress"
post "SOAPAction one quote" "<s:Envelope $E><s:Body>$A</s:Body></s:Envelope>" "\"$T#GetExternalIPAddress"
post "SOAPAction #" "<s:Envelope $E><s:Body>$A</s:Body></s:Envelope>" "#"
post "v1 type, v2 action" "<s:Envelope $E><s:Body><u:AddAnyPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\"/></s:Body></s:Envelope>" "\"urn:schemas-upnp-org:service:WANIPConnection:1#AddAnyPortMapping\""
post "v3 type" "<s:Envelope $E><s:Body><u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:3\"/></s:Body></s:Envelope>" "\"urn:schemas-upnp-org:service:WANIPConnection:3#GetExternalIPAddress\""
post "trailing garbage" "<s:Envelope $E><s:Body>$A</s:Body></s:Envelope><x/>"
post "BOM utf-8" "$(printf '\xef\xbb\xbf')<s:Envelope $E><s:Body>$A</s:Body></s:Envelope>"
post "XInclude" "<s:Envelope $E xmlns:xi=\"http://www.w3.org/2001/XInclude\"><s:Body><u:GetExternalIPAddress xmlns:u=\"$T\"><NewX><xi:include href=\"file:///etc/passwd\" parse=\"text\"/></NewX></u:GetExternalIPAddress></s:Body></s:Envelope>"
